"""Platforms: the national platforms a site hosts, their letterhead and their people."""
