"""From decoded events to decisions: spec index, policies, job ids, and the service that
applies them through small ports (state store, run backend, completion sink, decision log).
"""
