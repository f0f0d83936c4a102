"""Accounts: the people who sign in, and their sessions."""
