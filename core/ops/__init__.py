"""Operations: logs, health checks, metrics, idempotent deliveries, backup, data protection, worker role."""
