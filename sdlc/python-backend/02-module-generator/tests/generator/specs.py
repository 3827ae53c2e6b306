"""Specs the generator check renders: fixed awkward ones and Hypothesis examples."""

from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from tests.generator.render import Spec

# Each must be accepted and give a clean, migrating, passing module.
ACCEPTED = [
    # Names that shadowed types or template locals in earlier generators.
    Spec("order_item", "date:date, str:str(50), self:text?, exclude_id:int, type:str index"),
    Spec("field", "value:int index, data:str!, price:decimal(8,3) index, price_min:int index"),
    Spec("value", "label:str"),  # exactly one required field
    Spec("data", "common:int? index, typing:bool, pydantic:float>=0<=1?"),
    Spec("service", "query:str! index, uuid:uuid?, datetime:datetime? index"),
    Spec("page", "page:int index, size:int?, decimal:decimal, base:json?"),
    # A relation, end to end: invoices reference customers (and, optionally, invoices).
    Spec("customer", "name:str(80)!, email:email!, tier:int>=1<=3 default=1"),
    Spec(
        "invoice",
        "customer:ref(customer) ondelete=cascade, total:decimal(10,2)>=0 index, "
        "issued_at:datetime index, paid:bool default=false, note:text(500)?, "
        "corrects:ref(invoice)?",
    ),
    # Names close to PostgreSQL's 63-byte limit: uq_<table>_<field> is 63 bytes here.
    Spec("warehouse_location_code", "pick_bin_label_xxxxxxxxxxxxxxxxxxxx:str!"),
]

# Each must be refused with one line naming the offending name.
REFUSED = [
    (Spec("order", "class:int"), "class"),
    (Spec("order", "id:int"), "id"),
    (Spec("order", "json:json"), "json"),
    (Spec("order", "name:varchar"), "name"),
    (Spec("order", "Name:str"), "Name"),
    (Spec("order", "a-b:int"), "a-b"),
    (Spec("order", "qty:int>10<5"), "qty"),
    (Spec("order", "sort:str!"), "sort"),
    (Spec("order", "qty:int default=abc"), "qty"),
    (Spec("order", "qty:int ondelete=cascade"), "qty"),
    (Spec("order", "note:str(0)"), "note"),
    (Spec("order", "amount:decimal(3,5)"), "amount"),
    (Spec("order", "qty:int>=9999999999"), "qty"),
    (Spec("order", "parent:ref(order)"), "parent"),
    (Spec("order", "name:str, name:text"), "name"),
    (Spec("order", "x" * 37 + ":int"), "x" * 37),
    (Spec("warehouse_location_code", "pick_bin_label_xxxxxxxxxxxxxxxxxxxxx:str!"), "uq_"),
    (Spec("common", "name:str"), "common"),
    (Spec("Order", "name:str"), "Order"),
    (Spec("order", ""), "fields"),
]

NAMES = [
    "date",
    "str",
    "int",
    "self",
    "type",
    "id",
    "json",
    "class",
    "sort",
    "page",
    "size",
    "value",
    "field",
    "data",
    "exclude_id",
    "price_min",
    "common",
    "typing",
    "pydantic",
    "_x",
    "Name",
    "mapped_column",
    "metadata",
    "query",
    "uuid",
    "datetime",
    "sa",
    "base",
]
TYPES = [
    "str",
    "str(1)",
    "str(80)",
    "text",
    "text(3)",
    "email",
    "int",
    "int>=0",
    "int>0<=10",
    "bigint",
    "float",
    "float>=0<=1",
    "decimal",
    "decimal(5,2)",
    "decimal(4,0)>0",
    "bool",
    "date",
    "datetime",
    "uuid",
    "json",
    "varchar",
]
OPTIONS = ["unique", "index", "index", "default=3", "default=true", "ondelete=cascade"]

field_specs = st.builds(
    lambda name, kind, flags, options: " ".join([f"{name}:{kind}{flags}", *options]),
    st.one_of(st.sampled_from(NAMES), st.from_regex(r"\A[a-z][a-z0-9_]{0,10}\Z")),
    st.sampled_from(TYPES),
    st.sampled_from(["", "?", "!", "?!"]),
    st.lists(st.sampled_from(OPTIONS), max_size=2, unique=True),
)
field_lists = st.lists(field_specs, min_size=1, max_size=4).map(", ".join)


def generated(count: int) -> list[Spec]:
    """`count` Hypothesis examples of the field grammar (deterministic: derandomized)."""
    found: list[str] = []

    @settings(max_examples=count, derandomize=True, database=None, phases=[Phase.generate])
    @given(field_lists)
    def collect(fields: str) -> None:
        found.append(fields)

    collect()
    return [Spec(f"gen{index}", fields) for index, fields in enumerate(dict.fromkeys(found))]
