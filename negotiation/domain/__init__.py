"""The negotiation domain: the machine, the event types, the fold and the hash chain.

Nothing here knows about storage, files or the command line; everything else
imports the domain, never the reverse.
"""
