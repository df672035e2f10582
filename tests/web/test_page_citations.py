"""Each page cites the programme it is about (issue 15): a page about a feature — the
register of bases, supervision, quarterly data — the programmes whose file has it; any
other page the programmes where the user works; each in its file's own words, Chinese by
default and English when chosen."""

from __future__ import annotations

from tests.web.conftest import Browser

NOTICE_002 = "依据商务部关于开展科技兴贸出口创新基地申报工作的通知（商技发〔2006〕6号）"
GUANGDONG = "粤府办〔2006〕59号"


def footer(page: str) -> str:
    return page.split('data-testid="citation">')[1].split("</span>")[0]


def test_a_province_that_runs_its_own_programme_sees_both_cited_in_the_footer(
        browser: Browser) -> None:
    cited = footer(browser.login("guangdong_reviewer").text("/inbox"))
    assert NOTICE_002 in cited and GUANGDONG in cited
    assert cited.index("商技发") < cited.index(GUANGDONG)  # notice 002's first


def test_a_province_with_no_programme_of_its_own_sees_notice_002_alone(
        browser: Browser) -> None:
    cited = footer(browser.login("hubei_reviewer").text("/inbox"))
    assert cited == NOTICE_002
    # signed out: the national programmes
    browser.post("/logout")
    assert GUANGDONG not in footer(browser.text("/login"))


def test_pages_about_bases_cite_the_programmes_that_have_bases_not_guangdongs_list(
        browser: Browser) -> None:
    # Guangdong's list has no register, no quarterly data, no supervision of bases and no
    # goals the dashboard counts
    browser.login("guangdong_reviewer")
    for url in ("/supervision", "/bases-register/", "/reports/", "/dashboard"):
        cited = footer(browser.text(url))
        assert "商技发〔2006〕6号" in cited and GUANGDONG not in cited, url
    browser.post("/logout")
    assert footer(browser.text("/register")) == NOTICE_002  # the public register


def test_the_footer_cites_in_english_in_the_files_own_english_words(
        browser: Browser) -> None:
    cited = footer(browser.login("guangdong_reviewer", lang="en").text("/inbox"))
    assert cited.startswith("Under the MOFCOM notice on applications for export innovation "
                            "bases ([2006] No. 6)")
    assert "Under the Guangdong government office&#39;s notice [2006] No. 59" in cited
    assert "依据" not in cited and "粤府办" not in cited
