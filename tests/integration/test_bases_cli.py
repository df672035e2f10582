"""`flask bases import FILE` and `flask bases list`: the register from the console."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests import factories

HEAD = "省级商务主管部门,基地名称,基地类型,认定文号,认定日期,状态,状态日期\n"


def test_the_console_imports_a_register_file_as_a_ministry_reviewer_and_lists_it(
        app: Any, world: factories.World, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    good = tmp_path / "名录.csv"
    good.write_text(HEAD + "湖南省,长沙国家软件出口基地,软件出口基地,商科技发[2005]87号,2005-04-12,,\n"
                    "420000,武汉国家高新技术产品出口基地,高新技术产品出口基地,外经贸技发[2001]101号,"
                    "2001-09-20,限期整改,2005-11-30\n", encoding="utf-8")
    out = runner.invoke(args=["bases", "import", str(good), "--as-user", "mofcom"])
    assert out.exit_code == 0, out.output
    assert out.output.strip() == "imported 2 row(s): 1 added, 1 updated, 0 unchanged"
    listed = runner.invoke(args=["bases", "list", "--authority", "430000", "--json"])
    [hunan] = [json.loads(line) for line in listed.output.splitlines()]
    assert (hunan["name"], hunan["type"], hunan["designation_document"], hunan["designated_on"],
            hunan["status"]) == ("长沙国家软件出口基地", "software", "商科技发[2005]87号",
                                 "2005-04-12", "designated")
    rectifying = runner.invoke(args=["bases", "list", "--status", "rectifying"])
    assert rectifying.exit_code == 0
    [line] = rectifying.output.splitlines()
    assert line.split("\t")[1:3] == ["420000", "武汉国家高新技术产品出口基地"]
    everything = runner.invoke(args=["bases", "list"]).output.splitlines()
    assert len(everything) == len(factories.REGISTER) + 1


def test_the_console_imports_nothing_from_a_file_with_a_bad_row_and_says_which(
        app: Any, world: factories.World, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    bad = tmp_path / "bad.csv"
    bad.write_text(HEAD + "湖南省,长沙国家软件出口基地,软件出口基地,商科技发[2005]87号,2005-04-12,,\n"
                   "湖南省,株洲国家基地,开发区,外经贸技发[2002]238号,2002-07-15,,\n", encoding="utf-8")
    out = runner.invoke(args=["bases", "import", str(bad), "--as-user", "mofcom"])
    assert out.exit_code == 1
    assert "rows[3].base_type: invalid_base_type: 第 3 行“基地类型”" in out.output
    assert "nothing imported: 1 error(s)" in out.output
    assert "长沙" not in runner.invoke(args=["bases", "list"]).output
    province = runner.invoke(args=["bases", "import", str(bad), "--as-user", "hubei_reviewer"])
    assert province.exit_code == 1 and "only_ministry_imports_bases" in province.output
    assert runner.invoke(args=["bases", "import", str(bad)]).exit_code == 2  # --as-user needed
    wrong = runner.invoke(args=["bases", "list", "--type", "innovation", "--authority", "42"])
    assert wrong.exit_code == 1 and "6-digit" in wrong.output
