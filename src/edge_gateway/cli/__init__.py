"""The `edge` command (`main.py`): thin; each subcommand imports the room it runs, so `edge agent` loads
no bridge, NOC or development module."""
