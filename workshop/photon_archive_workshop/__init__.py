"""The local workshop around photon_archive: the AWS emulator, sample observatory data and the
``photon-archive-workshop`` command that runs the whole system on one machine. It is development
tooling, never installed with the product."""
