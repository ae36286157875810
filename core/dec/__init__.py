"""The DEC side: queue and decisions, staff accounts, service-fait attestations, exports."""
