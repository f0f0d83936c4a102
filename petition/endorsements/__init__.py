"""endorsements"""
