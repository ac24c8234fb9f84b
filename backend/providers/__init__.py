"""Provider applications (doctors, pharmacies, labs), their verification and admin API tokens."""
