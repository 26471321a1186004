"""A create-list-get round trip of assets and orders through the Python client that
openapi-python-client generates from this server's /openapi.json (scripts/check-generated-client.sh
generates it as the package `flexportal_client`, type-checks this file with `mypy --strict` and
runs it).

Usage: python client_round_trip.py BASE_URL TENANT_ID API_KEY
"""

import sys
import uuid
from typing import TypeVar

from flexportal_client import AuthenticatedClient
from flexportal_client.api.assets import create_asset, get_asset, list_assets
from flexportal_client.api.orders import create_order, get_order, list_orders
from flexportal_client.api.products import create_product
from flexportal_client.models import (
    Asset,
    AssetList,
    AssetSaved,
    AssetStatus,
    CreateAssetBody,
    CreateOrderBody,
    CreateProductBody,
    CreateVariantBody,
    ListAssetsStatus,
    Order,
    OrderAddressBody,
    OrderCreated,
    OrderCustomerBody,
    OrderItemBody,
    OrderList,
    OrderStatus,
    PricingTierBody,
    ProductSaved,
)


T = TypeVar("T")


def expect(value: object, kind: type[T], what: str) -> T:
    """The typed answer, or a failure naming what was answered instead (an `Error` envelope)."""
    if not isinstance(value, kind):
        raise SystemExit(f"{what}: expected {kind.__name__}, got {value!r}")
    return value


def main(base_url: str, tenant_id: str, api_key: str) -> None:
    client = AuthenticatedClient(base_url=base_url, token=api_key)
    run = uuid.uuid4().hex[:8].upper()
    sku = f"CL-{run}-16-A"

    product = create_product.sync(
        client=client,
        tenant_id=tenant_id,
        body=CreateProductBody(
            product_sku=f"CL-{run}",
            name="Client Laptop",
            specification="16 GB, 512 GB",
            category="Laptops",
            brand="Acme",
            variants=[
                CreateVariantBody(
                    variant_sku=sku,
                    variant_name="16 GB",
                    grade="A",
                    list_price=1999.0,
                    acquisition_cost=1200.0,
                    pricing=[
                        PricingTierBody(contract_length=12, monthly_price=89.0),
                        PricingTierBody(contract_length=24, monthly_price=59.0),
                    ],
                )
            ],
        ),
    )
    expect(product, ProductSaved, "createProduct")

    serial = f"SN-{run}"
    saved = expect(
        create_asset.sync(
            client=client,
            tenant_id=tenant_id,
            body=CreateAssetBody(serial_number=serial, sku=sku, location="Warehouse A"),
        ),
        AssetSaved,
        "createAsset",
    )
    assert saved.asset.status == AssetStatus.AVAILABLE, saved.asset.status

    page = expect(
        list_assets.sync(
            client=client, tenant_id=tenant_id, status=ListAssetsStatus.AVAILABLE, limit=100
        ),
        AssetList,
        "listAssets",
    )
    assert serial in [a.serial_number for a in page.assets], page.assets

    asset = expect(
        get_asset.sync(client=client, tenant_id=tenant_id, serial_number=serial),
        Asset,
        "getAsset",
    )
    assert (asset.sku, asset.location) == (sku, "Warehouse A"), asset

    created = expect(
        create_order.sync(
            client=client,
            tenant_id=tenant_id,
            body=CreateOrderBody(
                customer=OrderCustomerBody(
                    email=f"client-{run.lower()}@example.com",
                    first_name="Ada",
                    last_name="Lovelace",
                ),
                billing_address=OrderAddressBody(
                    street_address="Keizersgracht 1", city="Amsterdam", country="NL"
                ),
                items=[OrderItemBody(sku=sku, quantity=2, contract_length=12)],
            ),
        ),
        OrderCreated,
        "createOrder",
    )
    assert created.order.status == OrderStatus.PENDING, created.order.status
    assert created.order.totals.subtotal == 178.0, created.order.totals

    orders = expect(
        list_orders.sync(client=client, tenant_id=tenant_id, limit=100),
        OrderList,
        "listOrders",
    )
    assert created.order_id in [o.order_id for o in orders.orders]

    order = expect(
        get_order.sync(client=client, tenant_id=tenant_id, order_id=created.order_id),
        Order,
        "getOrder",
    )
    assert [i.sku for i in order.items] == [sku], order.items
    print(f"round trip ok: product, asset {serial}, order {order.order_id}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3])
