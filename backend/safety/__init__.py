"""What happens to an emergency red flag after the chat answered it: kept (`flags`), shown to the
patient's doctor (`shown`), counted for operators with the misses they record (`report`, `misses`).
Language-neutral but for the category names (`shown.CATEGORY_NAMES`)."""
