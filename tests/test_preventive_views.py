"""The pages of issue 17's 9.3 part: the category lists kept by 技质部经理 (others read them) and
the preventive actions (raise with the statistics page's prefill, show, evidence, steps, 我的待办)."""
from __future__ import annotations

import io
import re

from PIL import Image

from records.calendar.corrections import current_calendar
from records.cases import workflow
from records.catalog import categories
from records.reports import preventive
from records.users import accounts, departments
from tests.fixtures.cases import CLASSIFIED


def html(resp) -> str:
    return resp.get_data(as_text=True)


def test_the_category_lists_kept_by_the_manager_read_by_others(client, auth, store):
    auth.login("engineer")
    page = html(client.get("/categories/"))
    assert "电源" in page and "使用维护不当" in page and "只有技质部经理可以修改" in page and "/rename" not in page
    assert client.post("/categories/fault/add", data={"name": "接地"}).status_code == 403
    auth.logout()
    auth.login("manager")
    assert client.post("/categories/fault/add", data={"name": "接地"}).status_code == 302
    resp = client.post("/categories/fault/add", data={"name": "电源"})  # a name already used
    assert resp.status_code == 400 and "已有同名类别：电源" in html(resp)
    assert client.post("/categories/fault/fault6/rename", data={"name": "接地与屏蔽"}).status_code == 302
    assert client.post("/categories/cause/transport/retire").status_code == 302
    page = html(client.get("/categories/"))
    assert re.search(r'<tr data-code="transport" class="text-muted retired">', page)
    assert [e["name"] for e in categories.entries(store, "fault")][-1] == "接地与屏蔽"
    assert "transport" not in {c for c, _ in categories.choices(store, "cause")}
    assert client.post("/categories/cause/transport/restore").status_code == 302
    assert "transport" in {c for c, _ in categories.choices(store, "cause")}
    assert client.get("/categories/other/x/retire").status_code in (404, 405)


def _classified_case(store, make_case) -> dict:
    cal, eng = current_calendar(store), {"username": "engineer", "roles": ["tq_engineer", "receiver"]}
    c = make_case(username="engineer", roles=("tq_engineer", "receiver"))
    c = workflow.perform(store, cal, c["id"], "decide", eng, {"solution": "phone_guidance", "analysis": "a",
                                                              "guidance": "g"})
    return workflow.perform(store, cal, c["id"], "guidance_result", eng, {"solved": True, **CLASSIFIED})


def test_raise_from_the_statistics_link_then_evidence_and_steps(client, auth, store, app_world, make_case):
    dept = departments.create_department(store, "生产部", "admin")
    accounts.update_user(store, accounts.find_by_username(store, "tech2")["id"], "admin", department_id=dept["id"])
    c = _classified_case(store, make_case)
    auth.login("tech")
    assert client.get(f"/preventive/new?case={c['id']}").status_code == 403  # 技质部 raises them
    auth.logout()
    auth.login("manager")
    page = html(client.get(f"/preventive/new?case={c['id']}&case=999&model=JX-200&cause=process"))
    assert re.search(rf'<input checked[^>]*value="{c["id"]}"', page) and 'value="999"' not in page
    assert '<option selected value="JX-200">' in page and '<option selected value="process">' in page
    resp = client.post("/preventive/new", data={"cases": str(c["id"]), "model": "", "cause_category": "",
                                                "root_cause": "焊接不良", "action": "改进焊接工艺", "department_id": "0",
                                                "owner": "tech2", "due": "2030-01-31"})
    assert resp.status_code == 400 and "请选择责任部门" in html(resp) and "改进焊接工艺" in html(resp)
    assert list(store.scan(preventive.TABLE)) == []
    resp = client.post("/preventive/new", data={"cases": str(c["id"]), "model": "", "cause_category": "",
                                                "root_cause": "焊接不良", "action": "改进焊接工艺",
                                                "department_id": str(dept["id"]), "owner": "tech2", "due": "2030-01-31"})
    assert resp.status_code == 302
    [a] = store.scan(preventive.TABLE)
    assert (a["model"], a["cause_category"], a["cases"]) == ("JX-200", "process", [c["id"]])
    assert "预防措施" in html(client.get("/preventive/")) and f"YF-{a['id']:04d}" in html(client.get("/preventive/"))
    auth.logout()

    auth.login("tech2")  # the owner: in 我的待办, starts it, hands in evidence
    assert f"/preventive/{a['id']}" in html(client.get("/cases/my"))
    page = html(client.get(f"/preventive/{a['id']}"))
    assert 'id="step-start"' in page and f'href="/cases/{c["id"]}"' in page
    rev = store.get(preventive.TABLE, a["id"])["_rev"]
    assert client.post(f"/preventive/{a['id']}/start", data={"rev": rev}).status_code == 302
    img = io.BytesIO()
    Image.new("RGB", (10, 10)).save(img, format="PNG")
    resp = client.post(f"/preventive/{a['id']}/evidence", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(img.getvalue()), "记录.png")})
    assert resp.status_code == 302
    got = client.get(f"/preventive/{a['id']}/evidence/0")
    assert got.status_code == 200 and got.data == img.getvalue()
    rev = store.get(preventive.TABLE, a["id"])["_rev"]
    assert client.post(f"/preventive/{a['id']}/verify", data={"rev": rev, "months": "3",
                                                              "result": "effective"}).status_code == 403
    assert client.post(f"/preventive/{a['id']}/submit", data={"rev": rev}).status_code == 302
    assert store.get(preventive.TABLE, a["id"])["state"] == "to_verify"
    auth.logout()

    auth.login("engineer")  # verification before the period is over: refused beside the field
    rev = store.get(preventive.TABLE, a["id"])["_rev"]
    resp = client.post(f"/preventive/{a['id']}/verify", data={"rev": rev, "months": "3", "result": "effective"})
    assert resp.status_code == 400 and "尚未结束，不能判定有效" in html(resp)
    auth.logout()
    auth.login("receiver")  # not a reader, not the owner, not the department
    assert client.get(f"/preventive/{a['id']}").status_code == 404
    assert f"YF-{a['id']:04d}" not in html(client.get("/preventive/"))
