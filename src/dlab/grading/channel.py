"""The conversation between the grader and the student's sandbox, over one socket pair.

Either side sends a request and waits for its answer; while it waits it serves the other
side's requests (a student function calling back a function the grader passed it, a forward
pass asked of a student's module in the middle of the grader's training step). Requests:

    call      grader → sandbox: run a student function, or a method of a student object
    vjp       grader → sandbox: gradients of a call's outputs, for the grader's backward pass
    free      grader → sandbox: forget objects and graphs the grader no longer holds
    callback  sandbox → grader: call a function (or an allowed method) the grader passed in

Answers are ``return`` (a value, plus what changed in the arguments) or ``raise``.
Every message is plain data (:mod:`dlab.grading.wire`); nothing is unpickled or evaluated.
"""
from __future__ import annotations

import socket
import time

from dlab.grading import wire


class Timeout(Exception):
    """The other side did not answer within the grading time limit."""


class Peer:
    """One end of the channel. ``serve(header, blobs)`` answers the other side's requests and
    returns (header, blobs) of the answer."""

    def __init__(self, sock: socket.socket, serve, deadline: float | None = None):
        self.sock = sock
        self.serve = serve
        self.deadline = deadline  # time.monotonic() by which every answer must have come

    def _timeout(self) -> None:
        if self.deadline is None:
            self.sock.settimeout(None)
            return
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Timeout("the grading time limit was reached")
        self.sock.settimeout(left)

    def send(self, header: dict, blobs: list[bytes]) -> None:
        self._timeout()
        try:
            wire.send(self.sock, header, blobs)
        except socket.timeout:
            raise Timeout("the grading time limit was reached") from None
        except (BrokenPipeError, ConnectionResetError):
            raise wire.ChannelClosed("the other side closed the channel") from None

    def receive(self) -> tuple[dict, list[bytes]]:
        self._timeout()
        try:
            return wire.receive(self.sock)
        except socket.timeout:
            raise Timeout("the grading time limit was reached") from None
        except ConnectionResetError:
            raise wire.ChannelClosed("the other side closed the channel") from None

    def ask(self, header: dict, blobs: list[bytes]) -> tuple[dict, list[bytes]]:
        """Send a request; serve the other side's requests until the answer comes."""
        self.send(header, blobs)
        return self.wait()

    def wait(self) -> tuple[dict, list[bytes]]:
        while True:
            header, blobs = self.receive()
            if header.get("op") in ("return", "raise"):
                return header, blobs
            self.send(*self.serve(header, blobs))
