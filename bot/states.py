"""All conversation states (aiogram-dialog state groups)."""

from aiogram.fsm.state import State, StatesGroup


class Link(StatesGroup):
    identifier = State()
    password = State()
    new_code = State()


class Missions(StatesGroup):
    listing = State()
    card = State()


class Declare(StatesGroup):
    done = State()
    quantity = State()
    departure = State()
    return_at = State()
    trips = State()
    trip_depart_at = State()
    trip_from = State()
    trip_arrive_at = State()
    trip_to = State()
    trip_mode = State()
    trip_km = State()
    car_hp = State()
    car_km = State()
    nights = State()
    lodging_amount = State()
    meals = State()
    admin_meals = State()
    receipts_total = State()
    receipts = State()
    recap = State()


class Chef(StatesGroup):
    dates = State()
    day = State()
    confirm = State()
    attested = State()
