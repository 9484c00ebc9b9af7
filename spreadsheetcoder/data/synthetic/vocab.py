"""Header wording: concepts -> variants per language, with case, unit and abbreviation variety.

``Words(rng, lang).h("qty")`` may give ``Qty``, ``QUANTITY``, ``Qty (units)``, ``Menge`` or ``数量``.
A workbook has one main language (mostly English); a few headers fall back to English, as in
real multilingual workbooks.
"""

from __future__ import annotations

import random

__all__ = ["LANGUAGES", "Words"]

# Main-language weights of a workbook.
LANGUAGES = {"en": 0.72, "de": 0.06, "es": 0.06, "fr": 0.06, "zh": 0.04, "it": 0.03, "pt": 0.03}

# concept -> "en variants | de | es | fr | zh | it | pt" (variants separated by ';').
_TABLE = """
item = Item;Product;Description;Article;Product Name;Line Item | Artikel;Produkt;Bezeichnung | Artículo;Producto;Descripción | Article;Produit;Désignation | 产品;项目 | Articolo;Prodotto | Artigo;Produto
code = Code;SKU;Item Code;Product ID;Part No.;Ref | Artikelnr.;Code | Código;Ref. | Code;Réf. | 编号;代码 | Codice | Código
category = Category;Type;Group;Class;Segment | Kategorie;Gruppe | Categoría;Tipo | Catégorie;Type | 类别 | Categoria | Categoria
qty = Qty;Quantity;QTY (units);Units;# Units;Qty Sold;Volume | Menge;Anzahl;Stück | Cantidad;Unidades | Quantité;Qté | 数量 | Quantità | Quantidade
price = Price;Unit Price;Price ($);Unit Cost;Rate;Price/Unit;List Price | Preis;Einzelpreis | Precio;Precio unitario | Prix;Prix unitaire | 单价;价格 | Prezzo | Preço
amount = Amount;Amount (USD);Total;Line Total;Value;Ext. Price;Sales ($) | Betrag;Summe;Wert | Importe;Monto;Total | Montant;Total | 金额;总额 | Importo | Valor;Montante
cost = Cost;Unit Cost;Cost ($);COGS;Cost/Unit | Kosten;Stückkosten | Costo;Coste | Coût;Coût unitaire | 成本 | Costo | Custo
region = Region;Territory;Area;Sales Region;Market;Zone | Region;Gebiet | Región;Zona | Région;Zone | 地区;区域 | Regione | Região
quarter = Quarter;Qtr;Qtr.;Period | Quartal | Trimestre | Trimestre | 季度 | Trimestre | Trimestre
month = Month;Period;Mth;Month Name | Monat | Mes | Mois | 月份 | Mese | Mês
date = Date;Order Date;Txn Date;Posting Date;Day | Datum | Fecha | Date | 日期 | Data | Data
customer = Customer;Client;Account;Customer Name;Sold To | Kunde;Auftraggeber | Cliente | Client | 客户 | Cliente | Cliente
name = Name;Full Name;Employee;Student;Customer | Name;Mitarbeiter | Nombre;Empleado | Nom;Employé | 姓名 | Nome | Nome
first = First Name;First;Given Name | Vorname | Nombre | Prénom | 名 | Nome | Nome
last = Last Name;Surname;Last;Family Name | Nachname | Apellido | Nom de famille | 姓 | Cognome | Sobrenome
department = Department;Dept;Dept.;Division;Team;Cost Center | Abteilung;Bereich | Departamento;Área | Service;Département | 部门 | Reparto | Departamento
budget = Budget;Budgeted;Plan;Budget ($);Forecast | Budget;Plan;Soll | Presupuesto;Plan | Budget;Prévu | 预算 | Budget | Orçamento
actual = Actual;Actuals;Actual ($);Spent;Real | Ist;Tatsächlich | Real;Ejecutado | Réel;Réalisé | 实际 | Effettivo | Real
variance = Variance;Var;Difference;Diff;Over/(Under);Delta | Abweichung;Differenz | Variación;Diferencia | Écart;Différence | 差异 | Scostamento | Variação
variance_pct = Variance %;Var %;% Var;% Diff;Variance (%) | Abw. %;Abweichung % | Var. %;% Variación | Écart %;% Écart | 差异率 | Scost. % | Var. %
total = Total;TOTAL;Grand Total;Sum;Totals;Overall | Gesamt;Summe;Total | Total;Total general;Suma | Total;Total général | 合计;总计 | Totale | Total
subtotal = Subtotal;Sub-total;Sub Total;Total | Zwischensumme | Subtotal | Sous-total | 小计 | Subtotale | Subtotal
average = Average;Avg;Mean;Avg.;Average Score | Durchschnitt;Mittelwert;Ø | Promedio;Media | Moyenne | 平均 | Media | Média
share = Share;% of Total;Share (%);Mix %;Pct of Total;Weight | Anteil;Anteil % | Participación;% del total | Part;% du total | 占比 | Quota | Participação
growth = Growth;Growth %;YoY %;Change %;% Change;YoY Growth | Wachstum;Veränderung % | Crecimiento;Var. anual | Croissance;Évolution % | 增长率;同比 | Crescita | Crescimento
status = Status;Flag;Check;Result;Remark | Status;Prüfung | Estado;Situación | Statut;État | 状态 | Stato | Status
score = Score;Points;Marks;Result;Pts | Punkte;Note | Puntos;Nota | Note;Points | 分数;成绩 | Punteggio;Voto | Nota;Pontos
grade = Grade;Letter Grade;Final Grade;Mark | Note;Bewertung | Calificación;Nota | Note finale;Mention | 等级 | Giudizio | Conceito
hours = Hours;Hrs;Total Hours;Hours Worked;Time (h) | Stunden;Std. | Horas | Heures | 工时;小时 | Ore | Horas
rate = Rate;Hourly Rate;Rate ($/h);Pay Rate | Satz;Stundensatz | Tarifa;Tarifa por hora | Taux;Taux horaire | 费率 | Tariffa | Taxa
balance = Balance;Ending Balance;Closing Balance;Bal. | Saldo;Restschuld | Saldo | Solde | 余额 | Saldo | Saldo
payment = Payment;Pmt;Installment;Monthly Payment | Rate;Zahlung | Pago;Cuota | Paiement;Mensualité | 还款额 | Rata | Pagamento
interest = Interest;Int.;Interest Paid;Interest ($) | Zinsen | Interés;Intereses | Intérêts | 利息 | Interessi | Juros
principal = Principal;Principal Paid;Repayment | Tilgung | Capital;Amortización | Capital;Amortissement | 本金 | Capitale | Amortização
year = Year;Yr;FY;Fiscal Year | Jahr;GJ | Año;Ejercicio | Année;Exercice | 年份;年度 | Anno | Ano
stock = Stock;On Hand;Qty on Hand;In Stock;Inventory | Bestand;Lagerbestand | Existencias;Stock | Stock;En stock | 库存 | Giacenza | Estoque
reorder = Reorder Level;Reorder Point;Min Qty;Min. Stock | Meldebestand;Mindestbestand | Punto de pedido;Stock mínimo | Seuil;Stock minimum | 再订货点 | Scorta minima | Ponto de pedido
supplier = Supplier;Vendor;Supplier Name | Lieferant | Proveedor | Fournisseur | 供应商 | Fornitore | Fornecedor
discount = Discount;Disc.;Discount ($);Rebate | Rabatt;Nachlass | Descuento | Remise | 折扣 | Sconto | Desconto
tax = Tax;VAT;Sales Tax;Tax ($);GST | MwSt.;Steuer | IVA;Impuesto | TVA;Taxe | 税额 | IVA | Imposto
net = Net;Net Amount;Net Sales;Net Total | Netto;Nettobetrag | Neto;Importe neto | Net;Montant net | 净额 | Netto | Líquido
target = Target;Goal;Quota;Target ($);Plan | Ziel;Zielwert | Objetivo;Meta | Objectif;Cible | 目标 | Obiettivo | Meta
rank = Rank;Ranking;Pos.;# | Rang;Platz | Ranking;Puesto | Rang;Classement | 排名 | Posizione | Posição
count = Count;No.;# of Items;Number;Cnt | Anzahl | Cantidad;Nº | Nombre;Nb | 个数;数量 | Numero | Quantidade
id = ID;No.;#;Ref;Emp ID;Record | Nr.;ID | Nº;ID | N°;ID | 序号;编号 | N.;ID | Nº;ID
start = Start;Start Date;Time In;From;Begin | Beginn;Start | Inicio;Entrada | Début;Arrivée | 开始 | Inizio | Início
end = End;End Date;Time Out;To;Finish | Ende | Fin;Salida | Fin;Départ | 结束 | Fine | Fim
salary = Salary;Annual Salary;Base Pay;Salary ($) | Gehalt;Jahresgehalt | Salario;Sueldo | Salaire | 工资;薪资 | Stipendio | Salário
notes = Notes;Comments;Remarks;Memo | Bemerkung;Notiz | Notas;Comentarios | Remarques;Commentaires | 备注 | Note | Observações
sector = Sector;Segment;Category;End Use;Source | Sektor | Sector | Secteur | 部门 | Settore | Setor
unit = Unit;Units;UoM;Unit of Measure | Einheit | Unidad | Unité | 单位 | Unità | Unidade
revenue = Revenue;Sales;Turnover;Net Revenue;Income | Umsatz;Erlöse | Ingresos;Ventas | Chiffre d'affaires;Ventes | 收入;营业收入 | Ricavi | Receita
profit = Profit;Margin;Gross Profit;Net Profit | Gewinn;Deckungsbeitrag | Beneficio;Margen | Bénéfice;Marge | 利润 | Utile | Lucro
"""

_LANG_ORDER = ("en", "de", "es", "fr", "zh", "it", "pt")
HEADERS: dict[str, dict[str, list[str]]] = {}
for _line in _TABLE.strip().splitlines():
    _concept, _, _rest = _line.partition("=")
    HEADERS[_concept.strip()] = {lang: [v.strip() for v in part.split(";")]
                                 for lang, part in zip(_LANG_ORDER, _rest.split("|"), strict=True)}

# English unit decorations: concept -> suffixes that make sense for it.
_UNITS = {"amount": [" (USD)", " ($)", ", $", " [EUR]", " (€)", " (GBP)", " ('000)"],
          "price": [" ($)", " (EUR)", " per unit"], "cost": [" ($)", " (USD)"],
          "qty": [" (units)", " (pcs)", " (#)"], "hours": [" (h)", " (hrs)"],
          "salary": [" (USD)", " (EUR)", " p.a."], "revenue": [" ($)", " ($000)", " (USD m)"],
          "budget": [" ($)", " ('000)"], "actual": [" ($)", " ('000)"], "balance": [" ($)"]}


class Words:
    """Picks header wording for one workbook.

    Args:
        rng: the workbook's random source.
        lang: main language code (``LANGUAGES`` keys).
        case: overall case style of headers: ``as_is``, ``upper``, ``lower`` or ``title``; a few
            headers still deviate from it.
    """

    def __init__(self, rng: random.Random, lang: str, case: str) -> None:
        self.rng = rng
        self.lang = lang
        self.case = case

    @classmethod
    def sample(cls, rng: random.Random) -> Words:
        lang = rng.choices(list(LANGUAGES), weights=list(LANGUAGES.values()))[0]
        case = rng.choices(["as_is", "upper", "lower", "title"], weights=[70, 15, 7, 8])[0]
        return cls(rng, lang, case)

    def _cased(self, text: str) -> str:
        case = self.case if self.rng.random() > 0.05 else self.rng.choice(["as_is", "upper", "lower"])
        if case == "upper":
            return text.upper()
        if case == "lower":
            return text.lower()
        if case == "title" and text.isascii():
            return " ".join(w[:1].upper() + w[1:] for w in text.split(" "))
        return text

    def h(self, concept: str, unit: bool = True) -> str:
        """A header for ``concept`` in this workbook's language and style."""
        table = HEADERS[concept]
        lang = self.lang if self.rng.random() > 0.08 else "en"
        text = self.rng.choice(table[lang])
        if lang == "en" and unit and concept in _UNITS and self.rng.random() < 0.2 and "(" not in text:
            text += self.rng.choice(_UNITS[concept])
        return self._cased(text)

    def plain(self, concept: str) -> str:
        """A header safe for Excel table columns and structured references (letters, digits, spaces)."""
        for _ in range(20):
            text = self.h(concept, unit=False)
            if all(ch.isalnum() or ch == " " for ch in text) and text.strip() == text:
                return text
        return concept.title()

    def label(self, text: str) -> str:
        """Apply the workbook's case style to a free label (titles, row labels)."""
        return self._cased(text)

    def unique(self, concepts: list[str], plain: bool = False) -> list[str]:
        """Headers for a row of concepts, made distinct (Excel table columns must be unique)."""
        out: list[str] = []
        for concept in concepts:
            text = self.plain(concept) if plain else self.h(concept)
            k = 2
            base = text
            while text.lower() in (o.lower() for o in out):
                text, k = f"{base} {k}", k + 1
            out.append(text)
        return out
