"""The `telecare` command's groups of subcommands, one module per area; bot/cli.py assembles them."""
