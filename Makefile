.PHONY: run test fuzz fuzz-sandbox browser-test image-test

# Run the broker with its embedded MX sandbox on http://127.0.0.1:8080
run:
	Scripts/run

# Run the tests (installs missing system libraries first)
test:
	Scripts/test

# Fuzz a running broker from its OpenAPI document with schemathesis (from PyPI)
fuzz:
	Scripts/fuzz

# Fuzz the MX sandbox from MX's own OpenAPI documents (../shared/mx), both API versions
fuzz-sandbox:
	Scripts/fuzz-sandbox

# The demo front end in headless Chromium (also the last step of `make test`)
browser-test:
	Scripts/browser-test

# The Dockerfile's release build run natively, and the binary started as the image starts it
image-test:
	Scripts/image-test
