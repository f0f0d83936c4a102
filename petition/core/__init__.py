"""What every feature shares: extensions, clock, tokens, links, text, names, forms, errors, audit."""
