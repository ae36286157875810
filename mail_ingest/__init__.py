"""E-mail intake: SMTP server, IMAP poller, MIME parsing, pipeline worker and mailer (``runner.run_mail``)."""
