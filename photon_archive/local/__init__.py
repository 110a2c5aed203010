"""The embedded local stack: AWS emulator, provisioning, sample data and the photon-archive command."""
