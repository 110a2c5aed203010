"""The catalog: image tables other services read, and the ledger of every object seen."""
