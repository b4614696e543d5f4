"""Returns back on the shelf: the inventory app's handler for the refunds app's restock hook.

When a return (RMA) is processed, its lines with the ``restock`` disposition come here inside the
same transaction; each becomes one return-restock receipt in the stock ledger, referencing the RMA
and the line (see ``services.stock_receive_return``).
"""

from apps.inventory import services


def restock_returned_lines(*, case, lines, actor) -> list:
    """Post a stock receipt for every restocked return line; returns the ledger entries posted."""
    entries = []
    for line in lines:
        entry = services.stock_receive_return(
            sku=line.order_line.sku,
            quantity=line.quantity,
            case_reference=case.reference,
            return_line_id=line.pk,
            actor=actor,
        )
        if entry is not None:
            entries.append(entry)
    return entries
