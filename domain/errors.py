"""Named domain errors. Messages name the field or the rule and never carry personal data."""

from __future__ import annotations

from uuid import UUID


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""


class InvalidValue(DomainError, ValueError):
    """A value broke a rule: ``field: rule``."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class InvalidRequest(DomainError):
    """A registration request that cannot be accepted as sent, with the reason code to report."""

    def __init__(self, reason_code: str, problems: list[InvalidValue]) -> None:
        self.reason_code = reason_code
        self.problems = problems
        super().__init__("; ".join(str(problem) for problem in problems))

    @property
    def field(self) -> str:
        return self.problems[0].field


class IllegalTransition(DomainError):
    """A command that the registration's current state does not allow."""

    def __init__(self, command: str, state: str) -> None:
        super().__init__(f"cannot {command} a registration that is {state}")
        self.command = command
        self.state = state


class CommandConflict(DomainError):
    """The same command id was used before for a different command."""

    def __init__(self, command_id: str, earlier: str, now: str) -> None:
        super().__init__(f"command id {command_id!r} was already used for {earlier}, not {now}")
        self.command_id = command_id


class DecisionRule(DomainError):
    """A reviewer's decision that breaks a rule (reason missing, unknown reason, note missing, cap)."""


class SecondReviewerRequired(DecisionRule):
    """Four eyes: the reviewer who proposed a rejection may not confirm or decline it."""

    def __init__(self) -> None:
        super().__init__(
            "four_eyes: the reviewer who proposed the rejection cannot confirm or decline it;"
            " a second reviewer or supervisor of the office must"
        )


class RegistrationNotFound(DomainError):
    def __init__(self, key: str) -> None:
        super().__init__(f"no registration {key}")
        self.key = key


class DataErased(Exception):
    """The registration's data key was erased: what was encrypted under it cannot be read."""

    def __init__(self, registration_id: UUID) -> None:
        super().__init__(f"registration {registration_id}: its data was erased")
        self.registration_id = registration_id
