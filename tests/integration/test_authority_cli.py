"""`flask authorities import FILE` and `flask authorities list`: an operator loads the city
list from the console, all of it or nothing, and reads the tree back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests import factories

GOOD = ("code,name,parent,name_en,region\n"
        "420500,宜昌市,420000,Yichang,\n"
        "433100,湘西土家族苗族自治州,430000,Xiangxi,west\n")


def lines(result: Any) -> list[str]:
    return [line for line in result.output.splitlines() if line.strip()]


def test_an_operator_imports_a_city_list_and_lists_the_tree(
        app: Any, world: factories.World, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    path = tmp_path / "cities.csv"
    path.write_text(GOOD, encoding="utf-8")
    dry = runner.invoke(args=["authorities", "import", "--dry-run", str(path)])
    assert dry.exit_code == 0, dry.output
    assert lines(dry)[0] == "would create 2, would update 0, unchanged 0"
    listed = runner.invoke(args=["authorities", "list", "--province", "430000"])
    assert [line.split("\t")[0] for line in lines(listed)[1:]] == ["430000"]  # nothing yet
    done = runner.invoke(args=["authorities", "import", str(path)])
    assert done.exit_code == 0, done.output
    assert lines(done) == ["created 2, updated 0, unchanged 0", "+ 420500", "+ 433100"]
    listed = runner.invoke(args=["authorities", "list", "--province", "430000"])
    assert lines(listed)[0].split("\t") == ["code", "parent", "name_zh", "name_en", "kind",
                                            "region", "status", "cases", "accounts"]
    assert lines(listed)[2].split("\t") == ["433100", "430000", "湘西土家族苗族自治州",
                                            "Xiangxi", "autonomous_prefecture", "west*",
                                            "active", "0", "0"]
    hubei = runner.invoke(args=["authorities", "list", "--province", "420000"])
    codes = [line.split("\t")[0] for line in lines(hubei)[1:]]
    assert codes == ["420000", "420100", "420500", "420600", "422800"]
    again = runner.invoke(args=["authorities", "import", str(path)])
    assert lines(again)[0] == "created 0, updated 0, unchanged 2"


def test_a_list_with_a_bad_row_is_not_imported_and_each_error_names_its_row(
        app: Any, world: factories.World, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    path = tmp_path / "cities.csv"
    path.write_text(GOOD + "4207,鄂州市,420000,Ezhou,\n420800,荆门市,110000,Jingmen,\n",
                    encoding="utf-8")
    bad = runner.invoke(args=["authorities", "import", str(path)])
    assert bad.exit_code == 1
    assert "invalid_code: 第 4 行 代码应为 6 位 GB/T 2260 行政区划代码（如 420100）" in bad.output
    assert "parent_takes_no_cities: 第 5 行" in bad.output
    assert "nothing imported: 2 error(s)" in bad.output
    listed = runner.invoke(args=["authorities", "list", "--province", "420000"])
    assert "420500" not in listed.output
    nobody = runner.invoke(args=["authorities", "import", "--as-user", "hubei_reviewer",
                                 str(path)])
    assert nobody.exit_code == 1 and "not_your_duty" in nobody.output
