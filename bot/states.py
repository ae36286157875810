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
    car_hp = State()
    car_km = State()
    nights = State()
    lodging_amount = State()
    meals = State()
    admin_meals = State()
    receipts_total = State()
    receipts = State()
    recap = State()
    confirm = State()  # the warnings to confirm (« Je confirme ») before the dossier number


class TripEdit(StatesGroup):
    """One trip, added or changed: a sub-dialog started from the trips list, finished when saved."""

    depart_at = State()
    depart_city = State()
    arrive_at = State()
    arrive_city = State()
    mode = State()
    km = State()


class Chef(StatesGroup):
    dates = State()
    day = State()
    confirm = State()
    attested = State()
