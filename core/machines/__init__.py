"""Machines, the tokens attached to them for an application, and the offline application.

Machines come from machine resolvers (``hosts``: a file in /etc/hosts format); a token is
attached to a machine (or to every machine) for an application (``offline``, ``ssh``) with
options. The ``offline`` application gives a PAM host the hashes of a token's next OTP values
so that its users can log in while the server is unreachable.
"""
