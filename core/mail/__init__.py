"""Receipts by e-mail: intake addresses, the durable ledger, matching and processing, reply texts."""
