.PHONY: run test fuzz

# Run the broker with its embedded MX sandbox on http://127.0.0.1:8080
run:
	Scripts/run

# Run the tests (installs missing system libraries first)
test:
	Scripts/test

# Fuzz a running broker from its OpenAPI document with schemathesis (from PyPI)
fuzz:
	Scripts/fuzz
