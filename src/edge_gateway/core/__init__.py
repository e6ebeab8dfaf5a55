"""The kernel both programs import: Reading, line protocol, the MQTT client and the settings base.

Imports nothing else of the project (an import-linter contract in pyproject.toml)."""
