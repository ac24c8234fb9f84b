"""Doctors' availability and the bookable slots made from it; the doctor search."""
