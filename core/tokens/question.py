"""Questionnaire: the user answers questions at enrollment; a login asks one of them at
random and the answer is the response."""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from tesserad.core.tokens.base import ChallengeSpec, ParameterError, TokenClass, TokenError
from tesserad.core.tokens.registry import register

DEFAULT_NUM_ANSWERS = 5
QUESTION_KEY = "question.q"
ANSWER_KEY = "question.a"


@register
class QuestionnaireToken(TokenClass):
    """Questions are kept as plain tokeninfo ``question.q<n>``, answers encrypted as
    ``question.a<n>``; the challenge's ``data`` is ``n``. Enrollment takes ``questions``,
    a JSON object (or mapping) {question: answer} with at least ``question.num_answers``
    (system setting, default 5) entries."""

    type = "question"
    prefix = "QUST"
    title = "Questionnaire Token"
    challenge_always = True

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

    def create_challenge(self, text: str | None = None) -> ChallengeSpec:
        indexes = self._indexes()
        if not indexes:
            raise TokenError("The questionnaire token has no questions.")
        index = secrets.choice(indexes)
        question = self.info(f"{QUESTION_KEY}{index}") or ""
        return ChallengeSpec(message=question, data=str(index), challenge=question)

    def check_otp(self, otp: str) -> int:
        return -1  # only as the answer to a question

    def check_challenge_response(self, answer: str, challenge_data: str) -> int:
        try:
            index = int(challenge_data)
        except ValueError:
            return -1
        expected = self.secret_info(f"{ANSWER_KEY}{index}")
        if expected is None:
            return -1
        return 0 if hmac.compare_digest(expected.encode(), answer.encode()) else -1

    def consume(self, session: Session, matched: int) -> bool:
        # Nothing to use up here: the engine deletes the answered challenge atomically.
        return True
