"""Pools of row labels and cell texts: products, regions, people, sectors, months, titles."""

from __future__ import annotations

__all__ = ["MONTHS", "POOLS", "TITLES", "WEEKDAYS"]


def _split(text: str) -> list[str]:
    return [s.strip() for s in text.split(";") if s.strip()]


POOLS: dict[str, list[str]] = {k: _split(v) for k, v in {
    "product": "Widget A;Widget B;Gadget Pro;Gadget Mini;Desk Lamp;Office Chair;Standing Desk;Monitor 24in;"
               "Monitor 27in;USB-C Cable;HDMI Cable;Keyboard;Wireless Mouse;Laptop Stand;Webcam HD;Headset;"
               "Printer Paper;Toner Cartridge;Notebook A5;Ballpoint Pens;Stapler;Whiteboard;Coffee Beans 1kg;"
               "Green Tea;Bottled Water;Orange Juice;Granola Bars;Hand Soap;Paper Towels;Trash Bags;"
               "Safety Gloves;Hard Hat;LED Bulb;Extension Cord;Power Drill;Screwdriver Set;Tape Measure;"
               "Paint 5L;Brush Set;Ladder 6ft;Garden Hose;Plant Pot;Fertilizer;Running Shoes;T-Shirt;"
               "Hoodie;Backpack;Water Bottle;Yoga Mat;Dumbbells 5kg",
    "region": "North;South;East;West;Central;Northeast;Southwest;Pacific;Atlantic;Midwest;EMEA;APAC;"
              "LATAM;North America;Europe;Asia",
    "country": "USA;Canada;Mexico;Brazil;UK;Germany;France;Spain;Italy;Netherlands;Sweden;Poland;India;"
               "China;Japan;Australia;South Africa;Nigeria;Egypt;Turkey",
    "city": "New York;Chicago;Houston;Phoenix;Seattle;Denver;Boston;Atlanta;Miami;Dallas;London;Paris;"
            "Berlin;Madrid;Rome;Toronto;Sydney;Tokyo;Mumbai;Shanghai",
    "department": "Sales;Marketing;Finance;HR;IT;Operations;Legal;R&D;Customer Service;Logistics;"
                  "Procurement;Facilities",
    "expense": "Salaries;Rent;Utilities;Office Supplies;Travel;Meals & Entertainment;Advertising;Software;"
               "Insurance;Maintenance;Training;Consulting;Telephone;Internet;Postage;Bank Fees;"
               "Legal Fees;Equipment;Depreciation;Subscriptions;Events;Recruiting;Freight;Printing",
    "first": "James;Mary;John;Patricia;Robert;Jennifer;Michael;Linda;David;Elizabeth;William;Barbara;"
             "Richard;Susan;Joseph;Jessica;Thomas;Sarah;Carlos;Maria;Wei;Li;Anna;Lukas;Sofia;Mateo;"
             "Emma;Noah;Olivia;Liam;Aisha;Omar;Priya;Ravi;Yuki;Hana;Lars;Ingrid;Pierre;Camille",
    "last": "Smith;Johnson;Williams;Brown;Jones;Garcia;Miller;Davis;Rodriguez;Martinez;Hernandez;Lopez;"
            "Wilson;Anderson;Taylor;Thomas;Moore;Jackson;Martin;Lee;Chen;Wang;Kim;Patel;Singh;Müller;"
            "Schmidt;Rossi;Dubois;Silva;Nakamura;Larsen;Kowalski;Novak;Ivanova;Okafor;Haddad;Cohen",
    "subject": "Quiz 1;Quiz 2;Quiz 3;Quiz 4;Homework 1;Homework 2;Homework 3;Lab 1;Lab 2;Lab 3;Midterm;"
               "Project;Essay;Presentation;Final Exam;Participation",
    "sector": "Residential Buildings;Commercial Buildings;Industry;Transportation;Electricity Sector;"
              "Agriculture;LULUCF;District Heating;Hydrogen Supply;Waste;Cement;Iron and Steel;"
              "Chemicals;Refining;Natural Gas Production;Coal Mining;Aviation;Shipping;Rail;Freight Trucks",
    "fuel": "Electricity;Natural Gas;Coal;Petroleum Diesel;Petroleum Gasoline;Biomass;Biodiesel;Ethanol;"
            "Jet Fuel;LPG;Heavy Fuel Oil;Hydrogen;Solar;Wind;Hydro;Nuclear;Geothermal",
    "asset": "Delivery Van;Forklift;Server Rack;Laptops (10);Office Furniture;CNC Machine;Company Car;"
             "Packaging Line;HVAC System;Solar Panels;Security System;Printing Press;Conveyor Belt",
    "task": "Kickoff meeting;Requirements;Design review;Prototype;Build API;Data migration;Testing;"
            "User training;Documentation;Go-live;Post-launch review;Vendor selection;Budget approval;"
            "Site survey;Procurement;Installation;Quality audit;Marketing plan;Hiring;Retrospective",
    "kpi": "Revenue;New Customers;Churn Rate;Avg Order Value;Website Visits;Conversion Rate;Leads;"
           "Tickets Closed;NPS;Gross Margin;Headcount;On-time Delivery;Defect Rate;Inventory Turns",
    "customer": "Acme Corp;Globex;Initech;Umbrella Ltd;Stark Industries;Wayne Enterprises;Hooli;"
                "Vandelay Imports;Soylent Co;Tyrell Corp;Cyberdyne;Wonka Foods;Gringotts;Monarch Ltd;"
                "Blue Sun;Oceanic Air;Dunder Mifflin;Pied Piper;Aperture Labs;Black Mesa",
    "status_word": "Open;Closed;Pending;In Progress;Done;On Hold",
}.items()}

MONTHS = {
    "en": "Jan;Feb;Mar;Apr;May;Jun;Jul;Aug;Sep;Oct;Nov;Dec",
    "en_long": "January;February;March;April;May;June;July;August;September;October;November;December",
    "de": "Jan;Feb;Mär;Apr;Mai;Jun;Jul;Aug;Sep;Okt;Nov;Dez",
    "es": "Ene;Feb;Mar;Abr;May;Jun;Jul;Ago;Sep;Oct;Nov;Dic",
    "fr": "Janv;Févr;Mars;Avr;Mai;Juin;Juil;Août;Sept;Oct;Nov;Déc",
    "zh": "1月;2月;3月;4月;5月;6月;7月;8月;9月;10月;11月;12月",
    "it": "Gen;Feb;Mar;Apr;Mag;Giu;Lug;Ago;Set;Ott;Nov;Dic",
    "pt": "Jan;Fev;Mar;Abr;Mai;Jun;Jul;Ago;Set;Out;Nov;Dez",
}
MONTHS = {k: _split(v) for k, v in MONTHS.items()}  # type: ignore[misc]
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

TITLES = {
    "sales": ["Sales Report", "Monthly Sales", "Sales by Region", "SALES SUMMARY", "Regional Sales {year}",
              "Umsatzübersicht", "Ventas por región", "Ventes mensuelles", "销售汇总"],
    "pnl": ["Income Statement", "Profit & Loss", "P&L Summary", "Statement of Operations FY{year}",
            "Gewinn- und Verlustrechnung", "Cuenta de resultados", "Compte de résultat", "利润表"],
    "budget": ["Budget vs Actual", "Department Budget {year}", "Expense Tracking", "Budget Variance Report",
               "Budget – Ist-Vergleich", "Presupuesto vs Real", "Budget vs Réel", "预算执行情况"],
    "grades": ["Grade Book", "Class Results", "Gradebook – Term {term}", "Student Scores", "Notenliste",
               "Calificaciones", "Relevé de notes", "成绩单"],
    "inventory": ["Inventory", "Stock List", "Inventory Report", "Warehouse Stock", "Lagerliste",
                  "Inventario", "État des stocks", "库存表"],
    "timesheet": ["Timesheet", "Weekly Timesheet", "Time Sheet", "Hours Log", "Stundenzettel",
                  "Hoja de horas", "Feuille de temps", "考勤表"],
    "loan": ["Loan Amortization Schedule", "Mortgage Calculator", "Loan Schedule", "Tilgungsplan",
             "Tabla de amortización", "Tableau d'amortissement", "还款计划"],
}
