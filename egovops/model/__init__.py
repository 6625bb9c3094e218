"""The province as typed data: schema (what people write), loading + validation, the address plan."""

from egovops.model.load import load_inventory
from egovops.model.problems import InventoryError, Problem
from egovops.model.province import Province

__all__ = ["load_inventory", "InventoryError", "Problem", "Province"]
