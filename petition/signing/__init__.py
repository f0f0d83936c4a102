"""The platform's signature on its PDFs: a key held outside the database and the repository
(keys), PAdES signing and verification (pdf: it loads pyHanko, so import it where it is used),
and the ``signing-key`` commands (cli)."""
