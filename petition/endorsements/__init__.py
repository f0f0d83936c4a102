"""Endorsements: submitted by CSOs, confirmed by email, moderated, listed, withdrawn."""
