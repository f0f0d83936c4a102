"""Letters: the text coordinators draft, its revisions, and its life from draft to closed."""
