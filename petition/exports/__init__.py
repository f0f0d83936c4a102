"""Exports: the signed letter and the CSV of endorsements."""
