"""The inbox offers filters by place only where they mean something (issue 17): the
ministry's cases lie in every province; an applicant's are its own, a province's its
own tree — no region or province to choose there."""

from __future__ import annotations

from typing import Any

from tests import factories


def test_an_applicant_is_offered_no_region_or_province_filter(
        browser: Any, world: factories.World) -> None:
    page = browser.login("hubei_applicant").text("/inbox")
    assert 'id="f-region"' not in page and 'id="f-authority"' not in page
    assert 'id="f-state"' in page and 'id="f-round"' in page  # its own filters stay


def test_a_province_is_offered_no_region_or_province_filter(
        browser: Any, world: factories.World) -> None:
    page = browser.login("hubei_reviewer").text("/inbox?tab=all")
    assert 'id="f-region"' not in page and 'id="f-authority"' not in page
    assert '<option value="440000"' not in page and 'id="f-kind"' in page


def test_a_province_filters_its_inbox_by_its_own_cities(
        browser: Any, world: factories.World, frozen: Any) -> None:
    factories.submitted(world, "wuhan_applicant", applicant_name="武汉光谷")
    factories.submitted(world, "xiangyang_applicant", applicant_name="襄阳汽车")
    factories.submitted(world, "hubei_applicant", applicant_name="湖北省级龙头企业")
    b = browser.login("hubei_reviewer")
    page = b.text("/inbox?tab=all")
    city = page.split('id="f-city"', 1)[1].split("</select>", 1)[0]
    assert '<option value="420100"' in city and '<option value="422800"' in city
    assert '<option value="440100"' not in city  # Guangzhou is Guangdong's
    assert all(n in page for n in ("武汉光谷", "襄阳汽车", "湖北省级龙头企业"))
    page = b.text("/inbox?tab=all&authority=420100")
    assert "武汉光谷" in page and "襄阳汽车" not in page and "湖北省级龙头企业" not in page
    assert '<option value="420100" selected' in page
    # another province's city in an old link does not apply: every case of Hubei shows
    page = b.text("/inbox?tab=all&authority=440100")
    assert all(n in page for n in ("武汉光谷", "襄阳汽车", "湖北省级龙头企业"))


def test_a_province_without_cities_is_offered_no_city_filter(
        browser: Any, world: factories.World) -> None:
    page = browser.login("hunan_reviewer").text("/inbox?tab=all")
    assert 'id="f-city"' not in page and 'id="f-kind"' in page


def test_a_place_in_the_address_does_not_hide_a_provinces_own_cases(
        browser: Any, world: factories.World, frozen: Any) -> None:
    """A province given a region or province it cannot choose (an old link) still sees
    its cases: a filter that is not on its page does not apply."""
    factories.submitted(world, applicant_name="武汉光谷")
    b = browser.login("hubei_reviewer")
    page = b.text("/inbox?tab=all&region=west&authority=440000")
    assert "武汉光谷" in page
    assert "region=west" not in page and "authority=440000" not in page


def test_the_ministry_filters_by_region_and_by_each_province(
        browser: Any, world: factories.World) -> None:
    page = browser.login("mofcom").text("/inbox")
    assert 'id="f-region"' in page and 'id="f-authority"' in page
    assert '<option value="420000"' in page and '<option value="440000"' in page
    assert "西部" in page
