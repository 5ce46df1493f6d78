.PHONY: run test fuzz browser-test image-test

# Run the broker with its embedded MX sandbox on http://127.0.0.1:8080
run:
	Scripts/run

# Run the tests (installs missing system libraries first)
test:
	Scripts/test

# Fuzz a running broker from its OpenAPI document with schemathesis (from PyPI)
fuzz:
	Scripts/fuzz

# The demo front end in headless Chromium (also the last step of `make test`)
browser-test:
	Scripts/browser-test

# The Dockerfile's release build run natively, and the binary started as the image starts it
image-test:
	Scripts/image-test
