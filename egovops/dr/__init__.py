"""Disaster recovery: replication set-up, status, drills (RPO/RTO measured) and failback.

Two tiers of stored state, each with its own modules: the object tier (S3 stores and their native
replication, :mod:`egovops.dr.objects`, the public interface) and the database tier (PostgreSQL and
pgBackRest). The ``egovops dr`` CLI and the ``dr`` deploy step call the service functions here.
"""
