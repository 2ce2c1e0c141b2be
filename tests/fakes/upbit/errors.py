"""Error values raised inside the fake and turned into Upbit error bodies by the REST layer."""

from __future__ import annotations


class ApiError(Exception):
    """An Upbit error response: ``{"error": {"name": name, "message": message}}``.

    Exchange errors carry a snake_case string ``name``; quotation errors carry the HTTP status
    as an integer ``name`` (see reference §4.7 / §6).
    """

    def __init__(self, status: int, name: str | int, message: str) -> None:
        super().__init__(f"{status} {name}: {message}")
        self.status = status
        self.name = name
        self.message = message

    def body(self) -> dict[str, object]:
        return {"error": {"name": self.name, "message": self.message}}


MISSING_PARAM = "Missing request parameter error. Check the required parameters!"
TYPE_MISMATCH = "Type mismatch error. Check the parameters type!"
INVALID_PARAM = "Invalid parameter. Check the given value!"


def q_missing() -> ApiError:
    return ApiError(400, 400, MISSING_PARAM)


def q_type() -> ApiError:
    return ApiError(400, 400, TYPE_MISMATCH)


def q_invalid() -> ApiError:
    return ApiError(400, 400, INVALID_PARAM)


def q_not_found() -> ApiError:
    return ApiError(404, 404, "Code not found")


def validation(message: str = "잘못된 파라미터입니다.") -> ApiError:
    return ApiError(400, "validation_error", message)


def order_not_found() -> ApiError:
    return ApiError(404, "order_not_found", "주문을 찾지 못했습니다.")
