"""Who applies and who prepares the materials.  # 002 §六, §六(三)

A base applies as a region (a prefecture-level city or a development zone) or, in the
central and western regions only, as an industry cluster of leading export enterprises and
their supporting enterprises (002 §六; the form's `applicant_type` and its
`only_in_regions` check). Who organises the application's materials follows from that and
from the authority that drafts it (002 §六(三)).
"""

from __future__ import annotations

CLUSTER = "cluster"


def preparer(applicant_type: str | None, drafted_by_city: bool) -> tuple[str, str]:
    """Who organises the materials, in words (zh, en), by 002 §六(三): a city's commerce
    bureau for a city; for a cluster, the bureau of the city where its leading enterprise
    is; the province's commerce department for a provincial leading enterprise (a cluster
    drafted at province level)."""
    if applicant_type == CLUSTER:
        if drafted_by_city:
            return ("龙头企业所在地级市商务主管部门组织申报材料（产业集群，002 §六(三)）",
                    "prepared by the commerce bureau of the city where the leading enterprise "
                    "is (industry cluster, notice 002, §6(3))")
        return ("省级商务主管部门组织申报材料（省级龙头企业，002 §六(三)）",
                "prepared by the province's commerce department (provincial leading "
                "enterprise, notice 002, §6(3))")
    if drafted_by_city:
        return ("地级市商务主管部门组织申报材料（002 §六(三)）",
                "prepared by the city's commerce bureau (notice 002, §6(3))")
    return ("省级商务主管部门组织申报材料（002 §六(三)）",
            "prepared by the province-level commerce department (notice 002, §6(3))")
