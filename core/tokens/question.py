"""Questionnaire: the user answers questions at enrollment; a login asks one of them at
random and the answer is the response."""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Mapping
from typing import Any

from tesserad.core.tokens.base import ChallengeOptions, ChallengeSpec, ParameterError, TokenClass, TokenError
from tesserad.core.tokens.registry import register

DEFAULT_NUM_ANSWERS = 5
QUESTION_KEY = "question.q"
ANSWER_KEY = "question.a"


@register
class QuestionnaireToken(TokenClass):
    """Questions are kept as plain tokeninfo ``question.q<n>``, answers encrypted as
    ``question.a<n>``; the challenge's ``data`` is ``n``. Enrollment takes ``questions``,
    a JSON object (or mapping) {question: answer} with at least ``question.num_answers``
    (system setting, default 5) entries. With the auth policy ``question_number`` > 1 each
    right answer brings the next question; the data lists the questions asked so far."""

    type = "question"
    generates_otp = False
    prefix = "QUST"
    title = "Questionnaire Token"
    challenge_always = True
    structured_parameters = ("questions",)

    def enroll(self, params: Mapping[str, Any]) -> dict[str, Any]:
        detail = super().enroll(params)
        raw = params.get("questions")
        if raw in (None, ""):
            raise ParameterError("missing parameter: questions")
        if isinstance(raw, Mapping):
            questions = dict(raw)
        else:
            try:
                questions = json.loads(str(raw))
            except ValueError:
                raise ParameterError("questions must be a JSON object {question: answer}") from None
            if not isinstance(questions, dict):
                raise ParameterError("questions must be a JSON object {question: answer}")
        needed = int(self.env.extra.get("question.num_answers") or DEFAULT_NUM_ANSWERS)
        answered = {str(q).strip(): str(a) for q, a in questions.items() if str(q).strip() and str(a) != ""}
        if len(answered) < needed:
            raise ParameterError(f"You need to provide at least {needed} answers.")
        for key in [k for k in self._info if k.startswith((QUESTION_KEY, ANSWER_KEY))]:
            if int(key[len(QUESTION_KEY):]) >= len(answered):
                self.del_info(key)
        for index, (question, answer) in enumerate(answered.items()):
            self.set_info(f"{QUESTION_KEY}{index}", question)
            self.set_info(f"{ANSWER_KEY}{index}", answer, secret=True)
        return detail

    def _indexes(self) -> list[int]:
        return sorted(int(key[len(QUESTION_KEY):]) for key in self._info if key.startswith(QUESTION_KEY))

    def create_challenge(self, options: ChallengeOptions = ChallengeOptions()) -> ChallengeSpec:
        return self._ask([])

    def _ask(self, asked: list[int]) -> ChallengeSpec:
        """A question not asked yet in this authentication; once all were, any but the last."""
        indexes = self._indexes()
        if not indexes:
            raise TokenError("The questionnaire token has no questions.")
        fresh = [i for i in indexes if i not in asked] or [i for i in indexes if i != asked[-1]] or indexes
        index = secrets.choice(fresh)
        question = self.info(f"{QUESTION_KEY}{index}") or ""
        return ChallengeSpec(message=question, data=",".join(str(i) for i in [*asked, index]), challenge=question)

    def check_otp(self, otp: str) -> int:
        return -1  # only as the answer to a question

    def check_challenge_response(self, answer: str, challenge_data: str) -> int:
        asked = _asked(challenge_data)
        if not asked:
            return -1
        expected = self.secret_info(f"{ANSWER_KEY}{asked[-1]}")
        if expected is None:
            return -1
        return 0 if hmac.compare_digest(expected.encode(), answer.encode()) else -1

    def next_challenge(self, challenge_data: str, options: ChallengeOptions) -> ChallengeSpec | None:
        """The next question while fewer than the policy's ``question_number`` were answered."""
        asked = _asked(challenge_data)
        if not asked or len(asked) >= options.question_number:
            return None
        return self._ask(asked)

    def next_count(self, matched: int) -> None:
        return None  # nothing to use up here: the engine deletes the answered challenge atomically


def _asked(challenge_data: str) -> list[int]:
    """A challenge's ``data``: the indexes of the questions asked so far, the current one
    last; empty when malformed."""
    try:
        return [int(i) for i in challenge_data.split(",")]
    except ValueError:
        return []
