"""The golden figures of the bundled data (data/raw/sales_data_sample.csv), in one place.

Computed by hand from the CSV (pandas, independently of salesdash) and quoted in README and docs/metrics.md:
revenue excludes Cancelled orders by default.
"""

REVENUE = 9838141.37  # sum of SALES, Cancelled excluded
ORDERS = 303  # distinct ORDERNUMBERs, Cancelled excluded
AVERAGE_ORDER_VALUE = 32469.11  # REVENUE / ORDERS
CUSTOMERS = 92
COUNTRIES = 19
PRODUCT_LINES = 7
