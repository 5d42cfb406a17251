from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from service.networks import RULES
from service.networks.base import Network
from service.users.auth import get_current_user

router = APIRouter(
    prefix="/api/v1/networks", tags=["networks"], dependencies=[Depends(get_current_user)]
)


class NetworkInfo(BaseModel):
    """What a front end needs to help write for this network."""

    network: Network
    display_name: str
    text_limit: int
    visibilities: list[str]
    default_visibility: str
    supports_title: bool
    requires_title: bool
    title_limit: int | None
    expects_call_to_action: bool
    has_api: bool = Field(
        description="false: Handpost cannot publish there; its accounts are published by hand."
    )


@router.get("", response_model=list[NetworkInfo])
def list_networks() -> list[NetworkInfo]:
    return [
        NetworkInfo(
            network=rules.network,
            display_name=rules.display_name,
            text_limit=rules.text_limit,
            visibilities=list(rules.visibilities),
            default_visibility=rules.default_visibility,
            supports_title=rules.supports_title,
            requires_title=rules.requires_title,
            title_limit=rules.title_limit,
            expects_call_to_action=rules.expects_call_to_action,
            has_api=rules.has_api,
        )
        for rules in RULES.values()
    ]
