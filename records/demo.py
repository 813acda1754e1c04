"""Demo data: a user for every role (with their department and 主管领导), a few customers and
delivered products, a draft 技术通报 (technical notice) on the JX-200.

Only for the demo folder (``./demo-data``, what ``bash scripts/run.sh`` serves by default),
which is marked as the demo (records/users/install.py); a real folder is refused.
"""
from __future__ import annotations

from datetime import date

from records.calendar.workdays import now_local
from records.catalog import customers, products
from records.core.store import Store
from records.materials import parts, stock, suppliers
from records.technical_notices import notices as technical_notices
from records.users import accounts as users
from records.users import departments, install

DEMO_PASSWORD = "Demo@2026pass"

DEMO_USERS = [
    ("admin", "系统管理员", ["admin"]),
    ("zhang.jie", "张杰（接收人）", ["receiver"]),
    ("li.gong", "李工（技质部工程师）", ["tq_engineer", "receiver"]),
    ("wang.jingli", "王经理（技质部经理）", ["tq_manager", "tq_engineer", "receiver"]),
    ("zhao.shifu", "赵师傅（售后技术人员）", ["technician", "receiver"]),
    ("sun.xiaoshou", "孙（销售部）", ["sales", "receiver"]),
    ("qian.caiwu", "钱（财务部）", ["finance", "receiver"]),
    ("zhou.fuzong", "周副总（分管副总）", ["vp", "receiver"]),
    ("wu.zongjingli", "吴总（总经理）", ["gm", "receiver"]),
]

DEMO_DEPARTMENTS = ["技质部", "销售部", "财务部", "生产部", "综合管理部", "公司领导"]

# username -> (部门, 主管领导): the people who approve for them (7.4)
DEMO_PLACES = {
    "admin": ("综合管理部", "zhou.fuzong"),
    "zhang.jie": ("综合管理部", "zhou.fuzong"),
    "li.gong": ("技质部", "wang.jingli"),
    "wang.jingli": ("技质部", "zhou.fuzong"),
    "zhao.shifu": ("技质部", "wang.jingli"),
    "sun.xiaoshou": ("销售部", "zhou.fuzong"),
    "qian.caiwu": ("财务部", "wu.zongjingli"),
    "zhou.fuzong": ("公司领导", "wu.zongjingli"),
    "wu.zongjingli": ("公司领导", ""),
}

DEMO_CUSTOMERS = [
    {"name": "某部队第一修理所", "address": "河北省保定市", "distance_km": 150,
     "contacts": [{"name": "刘参谋", "phone": "0312-5550101"}], "remarks": "近距离顾客"},
    {"name": "西北某试验基地", "address": "甘肃省酒泉市", "distance_km": 820,
     "contacts": [{"name": "陈工", "phone": "0937-5550202"}, {"name": "马助理", "phone": "13900000002"}]},
    {"name": "南方某舰艇支队", "address": "海南省三亚市", "distance_km": 1380,
     "contacts": [{"name": "黄干事", "phone": "0898-5550303"}]},
    {"name": "东北某装备仓库", "address": "黑龙江省哈尔滨市", "distance_km": 1650,
     "contacts": [{"name": "孟主任", "phone": "0451-5550404"}], "remarks": "冬季注意防冻"},
]

# (customer index, model, name, serial, delivery date, warranty months, reliability)
DEMO_PRODUCTS = [
    (0, "JX-200", "电源控制箱", "JX200-2024-001", date(2024, 3, 15), 24, False),
    (0, "JX-200", "电源控制箱", "JX200-2022-017", date(2022, 6, 1), 24, False),
    (1, "RD-5", "雷达信号处理机", "RD5-2025-003", date(2025, 9, 20), 36, True),
    (1, "TX-9", "通信终端", "TX9-2021-044", date(2021, 1, 10), 12, False),
    (2, "HY-3", "海用显示控制台", "HY3-2025-008", date(2025, 4, 30), 24, True),
    (3, "BZ-1", "保障检测车", "BZ1-2023-002", date(2023, 11, 11), 36, True),
]

# (code, name, spec, unit, source, min stock, cost, sale price, in the store, in zhao.shifu's kit) — issue 16
DEMO_PARTS = [
    ("PWR-24V", "电源模块", "24V 10A", "件", "bought_in", 2, 820, 1200, 3, 1),
    ("FUSE-5A", "保险丝", "5A 慢熔", "只", "bought_in", 20, 2.5, 6, 50, 10),
    ("MB-JX200", "JX-200 主控板", "JX-200 V3", "块", "own", 1, 2600, 4800, 0, 0),
    ("CAB-SIG", "信号电缆组件", "3 m", "根", "outsourced", 2, 150, 260, 4, 0),
]


def load_demo(store: Store, actor: str = "demo") -> dict:
    """Add the demo records that are not there yet (safe to run twice) to an empty or demo
    folder, and mark it as the demo; install.FolderRefused for a real folder."""
    install.may_load_demo(store)
    added = {"users": 0, "customers": 0, "products": 0}
    missing = [u for u in DEMO_USERS if users.find_by_username(store, u[0]) is None]
    pw_hash = users.hash_password(DEMO_PASSWORD) if missing else ""  # one slow hash: they share the password
    with store.transaction(actor) as tx:
        install.mark(tx, install.DEMO, "演示数据文件夹")
        for username, display, roles in missing:
            users.add_user(tx, username, pw_hash, roles, display_name=display)
            added["users"] += 1
    ids = []
    for data in DEMO_CUSTOMERS:
        existing = customers.by_name(store, data["name"])
        if existing is None:
            existing = customers.create_customer(store, data, actor)
            added["customers"] += 1
        ids.append(existing["id"])
    for idx, model, name, serial, delivered, months, reliability in DEMO_PRODUCTS:
        if products.by_serial(store, serial) is None:
            products.create_product(store, {
                "model": model, "name": name, "serial_no": serial, "customer_id": ids[idx],
                "delivery_date": delivered.isoformat(), "warranty_months": months,
                "reliability": reliability,
            }, actor)
            added["products"] += 1
    added["departments"] = load_departments(store, actor)
    added["suppliers"] = load_suppliers(store, actor)
    added["parts"] = load_parts(store, actor)
    added["technical_notices"] = load_technical_notice(store)
    return added


DEMO_TECHNICAL_NOTICE = {"title": "JX-200 电源控制箱过流保护元件更换", "model": "JX-200", "kind": "change",
                         "text": "2024 年前交付的 JX-200 电源控制箱，过流保护元件在低温下可能误动作。\n"
                                 "处理方法：更换为新型过流保护元件，由我公司售后服务技术人员上门免费更换。",
                         "mode": "delivery", "delivered_to": "2023-12-31", "onsite": False}


def load_technical_notice(store: Store) -> int:
    """A draft 技术通报 when the folder has none (技质部 may issue it from the page); how many added."""
    if any(True for _ in store.scan(technical_notices.TABLE)):
        return 0
    engineer = users.find_by_username(store, "li.gong")
    if engineer is None:
        return 0
    technical_notices.create(store, DEMO_TECHNICAL_NOTICE, engineer)
    return 1


def load_parts(store: Store, actor: str = "demo") -> int:
    """The demo parts not there yet, with their prices and some stock (3.1, 5.2.4; issue 16)."""
    count = 0
    with store.transaction(actor) as tx:
        for code, name, spec, unit, source, low, cost, price, held, kit in DEMO_PARTS:
            if parts.get_by_code(tx, code):
                continue
            part = parts.insert_tx(tx, {"code": code, "name": name, "spec": spec, "unit": unit, "source": source,
                                        "min_stock": low})
            parts.set_sale_price_tx(tx, part["id"], price, "qian.caiwu", now_local())
            if held + kit:
                stock.receipt_tx(tx, code, held + kit, actor, unit_cost=cost, note="演示数据期初库存")
            if kit and users.find_by_username(tx, "zhao.shifu"):
                stock.issue_tx(tx, code, kit, "zhao.shifu", actor)
            count += 1
    return count


# Suppliers of bought-in and outsourced parts, with the warranty of their parts (3.1).
DEMO_SUPPLIERS = [
    {"name": "华东电源器件有限公司", "address": "江苏省无锡市新吴区长江路 18 号",
     "contacts": [{"name": "陈经理", "phone": "0510-85550123", "email": "chen@example.com"}],
     "warranties": [{"part_code": "PWR-24V", "part_name": "24V 开关电源", "months": 24},
                    {"part_code": "", "part_name": "", "months": 12}]},
    {"name": "精工结构件加工厂", "address": "浙江省宁波市北仑区新碶街道 6 号",
     "contacts": [{"name": "周工", "phone": "0574-86660456", "email": ""}],
     "warranties": [{"part_code": "", "part_name": "机箱结构件", "months": 36}]},
]


def load_suppliers(store: Store, actor: str = "demo") -> int:
    """Add the demo suppliers not there yet (safe to run twice); how many added."""
    known = {s["name"] for s in suppliers.all_suppliers(store, include_inactive=True)}
    missing = [d for d in DEMO_SUPPLIERS if d["name"] not in known]
    if missing:
        with store.transaction(actor) as tx:
            for data in missing:
                suppliers.insert_tx(tx, data)
    return len(missing)


def load_departments(store: Store, actor: str = "demo") -> int:
    """Add the demo departments not there yet, and place the demo users who have no department
    yet (safe to run twice; a department or supervisor set by the admin stays). How many added."""
    known = {d["name"]: d["id"] for d in departments.departments(store)}
    count = 0
    for name in DEMO_DEPARTMENTS:
        if name not in known:
            known[name] = departments.create_department(store, name, actor)["id"]
            count += 1
    for username, (dept, supervisor) in DEMO_PLACES.items():
        user = users.find_by_username(store, username)
        if user is not None and not user.get("department_id") and known.get(dept):
            boss = supervisor if supervisor and users.find_by_username(store, supervisor) else ""
            users.update_user(store, user["id"], actor, department_id=known[dept], supervisor=boss)
    return count


def is_empty(store: Store) -> bool:
    """Whether the folder has no users (the demo folder then gets the demo data again)."""
    return store.count(users.TABLE) == 0
