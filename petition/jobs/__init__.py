"""Background jobs: work too long for a request (a PDF of 10,000 endorsers), queued in
the database and run by `flask worker`, leased the same way as the outbox's emails."""
