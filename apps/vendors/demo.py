"""Demo vendors: about 25 across categories and statuses, contracts, and two years of quarterly reviews."""

import random
from datetime import date, timedelta
from decimal import Decimal

from apps.vendors import services
from apps.vendors.models import Vendor

VENDORS = [
    ("ACME-01", "Acme Industrial Supply Ltd", "goods", "USD"),
    ("NORTHWIND", "Northwind Traders GmbH", "goods", "EUR"),
    ("GLOBEX", "Globex Logistics Inc", "logistics", "USD"),
    ("INITECH", "Initech Software LLC", "software", "USD"),
    ("UMBRELLA", "Umbrella Facilities Services", "facilities", "USD"),
    ("STARK-IND", "Stark Industrial Components", "goods", "USD"),
    ("WAYNE-ENT", "Wayne Enterprise Solutions", "professional", "USD"),
    ("HOOLI", "Hooli Cloud Services", "software", "USD"),
    ("VANDELAY", "Vandelay Import Export", "goods", "USD"),
    ("PIEDPIPER", "Pied Piper Data Ltd", "software", "GBP"),
    ("CYBERDYNE", "Cyberdyne Systems Maintenance", "services", "USD"),
    ("SOYLENT", "Soylent Packaging Co", "goods", "EUR"),
    ("TYRELL", "Tyrell Consulting Partners", "professional", "USD"),
    ("WONKA", "Wonka Catering Services", "services", "GBP"),
    ("GRINGOTTS", "Gringotts Payment Services", "professional", "GBP"),
    ("OCEANIC", "Oceanic Freight Lines", "logistics", "USD"),
    ("MONARCH", "Monarch Office Supplies", "goods", "USD"),
    ("DUNDER", "Dunder Mifflin Paper", "goods", "USD"),
    ("BLUTH", "Bluth Property Maintenance", "facilities", "USD"),
    ("MASSIVE", "Massive Dynamic Labs", "services", "EUR"),
    ("KRUSTY", "Krusty Cleaning Services", "facilities", "USD"),
    ("PLANET-EX", "Planet Express Couriers", "logistics", "USD"),
    ("SPACELY", "Spacely Sprockets", "goods", "USD"),
    ("ZORG", "Zorg Security Systems", "services", "EUR"),
    ("OSCORP", "Oscorp Chemical Supply", "goods", "USD"),
]
ON_HOLD = {"VANDELAY": "Duplicate invoices under investigation", "KRUSTY": "Insurance certificate expired"}
BLOCKED = {"ZORG": "Failed compliance screening"}
UNCONFIRMED_BANK = {"OSCORP", "SPACELY"}


def seed(*, users) -> None:
    if Vendor.objects.filter(code=VENDORS[0][0]).exists():
        return
    manager, approver = users["vendor_manager"], users["approver"]
    rng = random.Random(20261122)  # the same demo data on every machine
    today = date.today()
    for index, (code, name, category, currency) in enumerate(VENDORS):
        vendor = services.vendor_save(
            actor=manager,
            code=code,
            legal_name=name,
            tax_id=f"{rng.randint(10, 99)}-{rng.randint(1000000, 9999999)}",
            category=category,
            payment_terms_days=rng.choice([15, 30, 30, 45, 60]),
            default_currency=currency,
            manager=manager,
            remit_to=f"{rng.randint(1, 999)} Commerce Way\nSuite {rng.randint(100, 900)}\nSpringfield",
            bank_account_holder=name,
            bank_name=rng.choice(["First National Bank", "Commerce Bank", "Union Savings", "Metro Credit"]),
            bank_account_number=f"{rng.randint(10**9, 10**10 - 1)}",
            bank_routing_code=f"{rng.randint(10**8, 10**9 - 1)}",
        )
        if code not in UNCONFIRMED_BANK:
            services.vendor_confirm_bank_details(vendor_id=vendor.pk, actor=approver)
        services.contact_save(
            actor=manager,
            vendor=vendor,
            name=f"Accounts receivable, {name.split()[0]}",
            role="Accounts receivable",
            email=f"ar@{code.lower().replace('-', '')}.example.com",
            phone=f"+1 555 01{index:02d}",
            is_primary=True,
        )
        services.contact_save(
            actor=manager,
            vendor=vendor,
            name=" ".join(
                [rng.choice(["Dana", "Lee", "Sam", "Alex", "Kim"]), rng.choice(["Ortiz", "Ng", "Park", "Reed"])]
            ),
            role="Account manager",
            email=f"accounts@{code.lower().replace('-', '')}.example.com",
        )
        start = today - timedelta(days=rng.randint(400, 900))
        services.contract_save(
            actor=manager,
            vendor=vendor,
            reference=f"C-{code}-{start:%Y}",
            title=f"Master supply agreement — {name}",
            start_date=start,
            end_date=today + timedelta(days=rng.choice([30, 45, 75, 200, 365, 500])),
            renewal_notice_days=rng.choice([30, 60, 90]),
            on_time_delivery_target=Decimal(rng.choice([90, 95, 98])),
            invoice_accuracy_target=Decimal(rng.choice([95, 97, 99])),
            defect_rate_target=Decimal(rng.choice(["1.0", "2.0", "2.5"])),
            response_time_target_hours=Decimal(rng.choice([4, 8, 24])),
        )
        _seed_reviews(vendor, manager, users["associate"], rng, today)
        if code in ON_HOLD:
            services.vendor_hold(vendor_id=vendor.pk, actor=manager, reason=ON_HOLD[code])
        if code in BLOCKED:
            services.vendor_block(vendor_id=vendor.pk, actor=manager, reason=BLOCKED[code])


def _seed_reviews(vendor, manager, associate, rng, today) -> None:
    """Eight quarters of finalized reviews with a trend: a base level drifting up or down."""
    level = rng.uniform(55, 92)
    drift = rng.uniform(-2.5, 2.5)
    quarter_end = date(today.year, ((today.month - 1) // 3) * 3 + 1, 1) - timedelta(days=1)
    ends = []
    for _ in range(8):
        ends.append(quarter_end)
        quarter_end = date(quarter_end.year, ((quarter_end.month - 1) // 3) * 3 + 1, 1) - timedelta(days=1)
    for number, end in enumerate(reversed(ends)):
        start = date(end.year, ((end.month - 1) // 3) * 3 + 1, 1)
        level = min(99.0, max(25.0, level + drift + rng.uniform(-4, 4)))
        criteria = [
            {**item, "score": Decimal(str(round(min(100.0, max(0.0, level + rng.uniform(-8, 8))), 1)))}
            for item in services.DEFAULT_CRITERIA
        ]
        review = services.review_create(
            actor=manager,
            vendor_id=vendor.pk,
            period_start=start,
            period_end=end,
            criteria=criteria,
            comments=rng.choice(
                [
                    "Steady quarter.",
                    "Late deliveries in the second month; discussed with the account manager.",
                    "Invoice errors down after the new PO format.",
                    "Quality complaints from the warehouse on two shipments.",
                    "Good responsiveness on urgent orders.",
                ]
            ),
            action_items=(
                [
                    {
                        "description": "Agree a delivery recovery plan",
                        "owner": associate,
                        "due_date": end + timedelta(days=rng.choice([20, 45, 200])),
                        "done": number < 6,
                    }
                ]
                if level < 65
                else []
            ),
        )
        services.review_finalize(review_id=review.pk, actor=manager)
