"""Printed by `make run`: where to open the system and how to log in."""

from config import load_settings
from workflow.services.demo import DEMO_PASSWORD

LOGINS = [
    ("mofcom_reviewer", "商务部科技司审核 / ministry reviewer"),
    ("guangdong_reviewer", "广东省（东部）审核 / Guangdong reviewer (east)"),
    ("hubei_reviewer", "湖北省（中部）审核 / Hubei reviewer (central)"),
    ("sichuan_reviewer", "四川省（西部）审核 / Sichuan reviewer (west)"),
    ("liaoning_reviewer", "辽宁省（东北）审核 / Liaoning reviewer (northeast)"),
    ("hubei_applicant", "湖北申报单位 / Hubei applicant"),
    ("sysadmin / secadmin / auditor", "三员管理 / the three admin roles"),
]

if __name__ == "__main__":
    s = load_settings()
    print(f"\n  科技兴贸出口创新基地 — open {s.base_url}/  (health: {s.base_url}/healthz)\n")
    print(f"  Demo logins (password for all: {DEMO_PASSWORD}):")
    for user, what in LOGINS:
        print(f"    {user:32} {what}")
    print("\n  Ctrl-C stops web, worker and beat.\n")
