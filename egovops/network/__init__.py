"""Extranet network automation: render vendor configs from router intents, diff, push with confirmed
commit and automatic rollback, verify dual-stack reachability. See README "Network automation"."""
