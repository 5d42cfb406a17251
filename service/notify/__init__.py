"""Telling the person something is waiting for them: email over SMTP, and an HTTP push.

Hand-publish (service.hand) queues a notification per channel in the same transaction that
makes a post due; the delivery chore (service.notify.delivery) sends them, claimed in the
database so that with several replicas each is sent by one of them.
"""
