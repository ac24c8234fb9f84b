"""What a flow is made of: steps that ask and steps that take an answer.

A flow is a small table of named steps. Entering a step calls its `ask`, which returns a `Prompt`
(texts and options). The user's next message is resolved against that prompt's options and given
to the step's `answer`, which returns an `Outcome`: say something and move on, stay and ask again,
or switch to another flow.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from conversations.messages import Inbound, InboundKind, Link, Reply, RequestKind

if TYPE_CHECKING:
    from conversations.context import Context


@dataclass(frozen=True, slots=True)
class Option:
    value: str  # what the step receives; never shown, never sent to the platform
    label: str


@dataclass(frozen=True, slots=True)
class Prompt:
    texts: tuple[str, ...]
    options: tuple[Option, ...] = ()
    request: RequestKind | None = None
    link: Link | None = None  # a page to open (a checkout), shown with the last text
    private: bool = False  # another person's health record or contact: see Reply.private


def prompt(
    *texts: str,
    options: list[Option] | tuple[Option, ...] = (),
    request: RequestKind | None = None,
    link: Link | None = None,
    private: bool = False,
) -> Prompt:
    return Prompt(tuple(t for t in texts if t), tuple(options), request, link, private)


@dataclass(frozen=True, slots=True)
class Answer:
    inbound: Inbound
    value: str | None  # the chosen option's value, when the message picked one
    # The text has emergency red-flag words and the user was shown the emergency guidance (and,
    # where the flow paused, said they are safe): a step that passes the text on marks it.
    red_flag: bool = False

    @property
    def text(self) -> str:
        return self.inbound.text.strip()


@dataclass(frozen=True, slots=True)
class Outcome:
    say: tuple[Reply, ...] = ()
    goto: str | None = None  # next step of the same flow
    flow: str | None = None  # or another flow (its first step unless `goto` is given)
    stay: bool = False  # ask the current step again (after `say`)
    remember: bool = True  # push the current step so that "back" returns to it
    # Switching flows: "back" from the new flow's first question returns to this step, with this
    # flow's answers (a doctor's card → booking: back from the day picker shows the card again).
    returnable: bool = False


def say(*texts: str) -> tuple[Reply, ...]:
    return tuple(Reply(text=t) for t in texts if t)


def next_step(step: str, *texts: str) -> Outcome:
    return Outcome(say=say(*texts), goto=step)


def switch(flow: str, *texts: str, step: str | None = None) -> Outcome:
    return Outcome(say=say(*texts), flow=flow, goto=step, remember=False)


def retry(*texts: str) -> Outcome:
    return Outcome(say=say(*texts), stay=True)


AskFn = Callable[["Context"], Awaitable[Prompt]]
AnswerFn = Callable[["Context", Answer], Awaitable[Outcome]]


@dataclass(frozen=True, slots=True)
class Step:
    ask: AskFn
    answer: AnswerFn
    free_text: bool = False  # True: typed text is an answer even when options are shown
    accepts: frozenset[InboundKind] = frozenset({InboundKind.TEXT, InboundKind.CHOICE})
    # The answer is an entry of the user's medical history ("stroke in 2019"): a red flag in it
    # is still audited and answered with a short note, but the entry is kept, not blocked.
    records_history: bool = False
    # The answer is the user's own words (a reason for a visit, a symptom to find a specialty):
    # words that paused a flow for an emergency answer it after "I am safe". A step that reads a
    # value out of the text (a day, a fee) asks again instead: "my chest hurts" is no day.
    takes_words: bool = False
    # The answer is a language ("which languages do you speak", a search filter): a message that
    # only names a language is that answer here, not the command to switch the chat's language.
    language_answer: bool = False


@dataclass(frozen=True)
class Flow:
    name: str
    first: str
    steps: dict[str, Step] = field(default_factory=dict)
    needs_account: bool = True
    # A flow that leads to booking or payment stops when a red flag is seen, until the user
    # confirms they are safe (domain reference, REQ-6.3).
    halt_on_emergency: bool = False
